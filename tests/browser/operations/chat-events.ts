// What a TypeScript widget does with chatStream, written against the types GraphQL Code
// Generator's client preset makes of these operations. Compiled with `tsc --strict` by
// codegen.test.mjs (next to the generated `gql/` folder); never run.
import type { ResultOf, TypedDocumentNode, VariablesOf } from "@graphql-typed-document-node/core";
import { useFragment as read } from "./gql";
import {
  ChatFailedFieldsFragmentDoc,
  ChatStreamDocument,
  MessageDoneFieldsFragmentDoc,
  MessageFieldsFragmentDoc,
  SourceFieldsFragmentDoc,
  SourcesFoundFieldsFragmentDoc,
  StartSessionDocument,
  TokenDeltaFieldsFragmentDoc,
  type MessageStatus,
  type Rating,
} from "./gql/graphql";

type ChatEvent = ResultOf<typeof ChatStreamDocument>["chatStream"];

export interface Transcript {
  messageId: string | null;
  answer: string;
  citations: { title: string; url: string | null }[];
  status: MessageStatus | "STREAMING";
  failure: { code: string; detail: string; retryAfter: number | null } | null;
}

export const empty: Transcript = {
  messageId: null,
  answer: "",
  citations: [],
  status: "STREAMING",
  failure: null,
};

export function apply(transcript: Transcript, event: ChatEvent): Transcript {
  switch (event.__typename) {
    case "SourcesFound": {
      const found = read(SourcesFoundFieldsFragmentDoc, event);
      const citations = found.sources.map((ref) => {
        const source = read(SourceFieldsFragmentDoc, ref);
        return { title: source.title, url: source.url ?? null };
      });
      return { ...transcript, messageId: found.messageId, citations };
    }
    case "TokenDelta": {
      const delta = read(TokenDeltaFieldsFragmentDoc, event);
      // @ts-expect-error: a TokenDelta carries text, no sources
      void delta.sources;
      return { ...transcript, answer: transcript.answer + delta.text };
    }
    case "MessageDone": {
      const message = read(MessageFieldsFragmentDoc, read(MessageDoneFieldsFragmentDoc, event).message);
      const tokens: number = message.usage?.totalTokens ?? 0;
      const rated: Rating | null = message.feedback?.rating ?? null;
      void tokens, rated;
      return { ...transcript, messageId: message.id, answer: message.content, status: message.status };
    }
    case "ChatFailed": {
      const failed = read(ChatFailedFieldsFragmentDoc, event);
      const { code, detail, retryAfter } = failed;
      return { ...transcript, messageId: failed.failedMessageId, status: "FAILED", failure: { code, detail, retryAfter } };
    }
    default: {
      const unknown: never = event;
      return unknown;
    }
  }
}

export function ask(chatId: string, message: string): VariablesOf<typeof ChatStreamDocument> {
  return { chatId, message };
}

export const session: TypedDocumentNode<ResultOf<typeof StartSessionDocument>, { websiteId: string }> =
  StartSessionDocument;

// @ts-expect-error: chatStream needs the message to ask
export const incomplete: VariablesOf<typeof ChatStreamDocument> = { chatId: "1" };
