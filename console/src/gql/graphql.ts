/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
/** A new website. Omitted and null fields take their defaults. */
export type CreateWebsiteInput = {
  /** Origins whose pages may start visitor sessions (at most 50), like https://shop.example, or `*` for any; default: none. */
  allowedOrigins?: Array<string> | null | undefined;
  /** Host name like docs.example.com (no scheme or path; stored in lower case). An owner has one website per domain. */
  domain: string;
  /** 1..200 characters; default (null or omitted): the domain. */
  name?: string | null | undefined;
  /** Instructions for the model, at most 8000 characters; default: built in. */
  systemPrompt?: string | null | undefined;
};

/** Where a document is in ingestion. */
export type DocumentStatus =
  /** Ingestion failed; `Document.error` says why. */
  | 'FAILED'
  /** Stored, waiting for a worker. */
  | 'PENDING'
  /** Being parsed, chunked and embedded. */
  | 'PROCESSING'
  /** Searchable; answers may cite it. */
  | 'READY';

/** Changes to a website. An omitted field stays as it is; an explicit null resets the field to its default (named on each field); any other value replaces it. */
export type UpdateWebsiteInput = {
  /** Origins whose pages may start visitor sessions (at most 50), like https://shop.example, or `*` for any; replaces the whole list. Null resets it to none (`[]`). */
  allowedOrigins?: Array<string> | null | undefined;
  /** The chat model of answers: LLM_MODEL or one of LLM_ALLOWED_MODELS (others fail with BAD_USER_INPUT). Null resets it to LLM_MODEL. */
  model?: string | null | undefined;
  /** 1..200 characters. Null resets it to the domain. */
  name?: string | null | undefined;
  /** Delete chats (with their messages and ratings) this many days after their last activity, 1..3650. Null resets it to the default: keep chats until they are deleted. */
  retentionDays?: number | null | undefined;
  /** Questions the widget offers (at most 10, each 1..200 characters); replaces the whole list. Null resets it to none (`[]`). */
  suggestedQuestions?: Array<string> | null | undefined;
  /** Instructions for the model, at most 8000 characters. Null resets it to the built-in prompt. */
  systemPrompt?: string | null | undefined;
  /** Sampling temperature, 0..2. Null resets it to the model's default. */
  temperature?: number | null | undefined;
  /** Widget styling: an object of strings, numbers and booleans, at most 4096 bytes of JSON; replaces the whole theme. Null resets it to `{}`. */
  theme?: unknown;
  /** The IANA time zone (like Europe/Berlin) in which `activity` buckets hours and days. Null resets it to UTC, the default. */
  timeZone?: string | null | undefined;
  /** The widget's header, 1..200 characters. Null resets it to the name. */
  title?: string | null | undefined;
  /** Whether visitors may run only trusted documents: the widget's own operations and the operator's TRUSTED_DOCUMENTS manifests (anything else is refused with FORBIDDEN before it runs). Null resets it to false, the default. */
  trustedDocumentsOnly?: boolean | null | undefined;
  /** The widget's first message, at most 1000 characters. Null: none. */
  welcomeMessage?: string | null | undefined;
};

export type DocumentFieldsFragment = { id: string, filename: string, contentType: string, sizeBytes: number, status: DocumentStatus, error: string | null, chunkCount: number, createdAt: string, sourceUrl: string | null, downloadUrl: string };

export type DocumentsQueryVariables = Exact<{
  websiteId: string | number;
  first: number;
  after?: string | null | undefined;
}>;


export type DocumentsQuery = { documents: { nodes: Array<{ id: string, filename: string, contentType: string, sizeBytes: number, status: DocumentStatus, error: string | null, chunkCount: number, createdAt: string, sourceUrl: string | null, downloadUrl: string }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type UploadDocumentMutationVariables = Exact<{
  websiteId: string | number;
  file: File;
}>;


export type UploadDocumentMutation = { uploadDocument: { id: string, filename: string, contentType: string, sizeBytes: number, status: DocumentStatus, error: string | null, chunkCount: number, createdAt: string, sourceUrl: string | null, downloadUrl: string } };

export type DeleteDocumentMutationVariables = Exact<{
  id: string | number;
}>;


export type DeleteDocumentMutation = { deleteDocument: boolean };

export type DocumentStatusSubscriptionVariables = Exact<{
  documentId: string | number;
}>;


export type DocumentStatusSubscription = { documentStatus: { id: string, filename: string, contentType: string, sizeBytes: number, status: DocumentStatus, error: string | null, chunkCount: number, createdAt: string, sourceUrl: string | null, downloadUrl: string } };

export type RedeemConsoleCodeMutationVariables = Exact<{
  code: string;
}>;


export type RedeemConsoleCodeMutation = { redeemConsoleCode: { accessToken: string, expiresAt: string } };

export type WebsiteFieldsFragment = { id: string, name: string, domain: string, createdAt: string, settings: { title: string, welcomeMessage: string | null, suggestedQuestions: Array<string>, theme: unknown, systemPrompt: string | null, model: string | null, temperature: number | null, allowedOrigins: Array<string> | null, timeZone: string, retentionDays: number | null } };

export type WebsitesQueryVariables = Exact<{ [key: string]: never; }>;


export type WebsitesQuery = { websites: Array<{ id: string, name: string, domain: string, createdAt: string, settings: { title: string, welcomeMessage: string | null, suggestedQuestions: Array<string>, theme: unknown, systemPrompt: string | null, model: string | null, temperature: number | null, allowedOrigins: Array<string> | null, timeZone: string, retentionDays: number | null } }> };

export type WebsiteQueryVariables = Exact<{
  id: string | number;
}>;


export type WebsiteQuery = { website: { id: string, name: string, domain: string, createdAt: string, settings: { title: string, welcomeMessage: string | null, suggestedQuestions: Array<string>, theme: unknown, systemPrompt: string | null, model: string | null, temperature: number | null, allowedOrigins: Array<string> | null, timeZone: string, retentionDays: number | null } } | null };

export type CreateWebsiteMutationVariables = Exact<{
  input: CreateWebsiteInput;
}>;


export type CreateWebsiteMutation = { createWebsite: { id: string, name: string, domain: string, createdAt: string, settings: { title: string, welcomeMessage: string | null, suggestedQuestions: Array<string>, theme: unknown, systemPrompt: string | null, model: string | null, temperature: number | null, allowedOrigins: Array<string> | null, timeZone: string, retentionDays: number | null } } };

export type UpdateWebsiteMutationVariables = Exact<{
  id: string | number;
  input: UpdateWebsiteInput;
}>;


export type UpdateWebsiteMutation = { updateWebsite: { id: string, name: string, domain: string, createdAt: string, settings: { title: string, welcomeMessage: string | null, suggestedQuestions: Array<string>, theme: unknown, systemPrompt: string | null, model: string | null, temperature: number | null, allowedOrigins: Array<string> | null, timeZone: string, retentionDays: number | null } } };

export type DeleteWebsiteMutationVariables = Exact<{
  id: string | number;
}>;


export type DeleteWebsiteMutation = { deleteWebsite: boolean };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const DocumentFieldsFragmentDoc = new TypedDocumentString(`
    fragment DocumentFields on Document {
  id
  filename
  contentType
  sizeBytes
  status
  error
  chunkCount
  createdAt
  sourceUrl
  downloadUrl
}
    `, {"fragmentName":"DocumentFields"}) as unknown as TypedDocumentString<DocumentFieldsFragment, unknown>;
export const WebsiteFieldsFragmentDoc = new TypedDocumentString(`
    fragment WebsiteFields on Website {
  id
  name
  domain
  createdAt
  settings {
    title
    welcomeMessage
    suggestedQuestions
    theme
    systemPrompt
    model
    temperature
    allowedOrigins
    timeZone
    retentionDays
  }
}
    `, {"fragmentName":"WebsiteFields"}) as unknown as TypedDocumentString<WebsiteFieldsFragment, unknown>;
export const DocumentsDocument = new TypedDocumentString(`
    query Documents($websiteId: ID!, $first: Int!, $after: String) {
  documents(websiteId: $websiteId, first: $first, after: $after) {
    nodes {
      ...DocumentFields
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
}
    fragment DocumentFields on Document {
  id
  filename
  contentType
  sizeBytes
  status
  error
  chunkCount
  createdAt
  sourceUrl
  downloadUrl
}`) as unknown as TypedDocumentString<DocumentsQuery, DocumentsQueryVariables>;
export const UploadDocumentDocument = new TypedDocumentString(`
    mutation UploadDocument($websiteId: ID!, $file: Upload!) {
  uploadDocument(websiteId: $websiteId, file: $file) {
    ...DocumentFields
  }
}
    fragment DocumentFields on Document {
  id
  filename
  contentType
  sizeBytes
  status
  error
  chunkCount
  createdAt
  sourceUrl
  downloadUrl
}`) as unknown as TypedDocumentString<UploadDocumentMutation, UploadDocumentMutationVariables>;
export const DeleteDocumentDocument = new TypedDocumentString(`
    mutation DeleteDocument($id: ID!) {
  deleteDocument(id: $id)
}
    `) as unknown as TypedDocumentString<DeleteDocumentMutation, DeleteDocumentMutationVariables>;
export const DocumentStatusDocument = new TypedDocumentString(`
    subscription DocumentStatus($documentId: ID!) {
  documentStatus(documentId: $documentId) {
    ...DocumentFields
  }
}
    fragment DocumentFields on Document {
  id
  filename
  contentType
  sizeBytes
  status
  error
  chunkCount
  createdAt
  sourceUrl
  downloadUrl
}`) as unknown as TypedDocumentString<DocumentStatusSubscription, DocumentStatusSubscriptionVariables>;
export const RedeemConsoleCodeDocument = new TypedDocumentString(`
    mutation RedeemConsoleCode($code: String!) {
  redeemConsoleCode(code: $code) {
    accessToken
    expiresAt
  }
}
    `) as unknown as TypedDocumentString<RedeemConsoleCodeMutation, RedeemConsoleCodeMutationVariables>;
export const WebsitesDocument = new TypedDocumentString(`
    query Websites {
  websites {
    ...WebsiteFields
  }
}
    fragment WebsiteFields on Website {
  id
  name
  domain
  createdAt
  settings {
    title
    welcomeMessage
    suggestedQuestions
    theme
    systemPrompt
    model
    temperature
    allowedOrigins
    timeZone
    retentionDays
  }
}`) as unknown as TypedDocumentString<WebsitesQuery, WebsitesQueryVariables>;
export const WebsiteDocument = new TypedDocumentString(`
    query Website($id: ID!) {
  website(id: $id) {
    ...WebsiteFields
  }
}
    fragment WebsiteFields on Website {
  id
  name
  domain
  createdAt
  settings {
    title
    welcomeMessage
    suggestedQuestions
    theme
    systemPrompt
    model
    temperature
    allowedOrigins
    timeZone
    retentionDays
  }
}`) as unknown as TypedDocumentString<WebsiteQuery, WebsiteQueryVariables>;
export const CreateWebsiteDocument = new TypedDocumentString(`
    mutation CreateWebsite($input: CreateWebsiteInput!) {
  createWebsite(input: $input) {
    ...WebsiteFields
  }
}
    fragment WebsiteFields on Website {
  id
  name
  domain
  createdAt
  settings {
    title
    welcomeMessage
    suggestedQuestions
    theme
    systemPrompt
    model
    temperature
    allowedOrigins
    timeZone
    retentionDays
  }
}`) as unknown as TypedDocumentString<CreateWebsiteMutation, CreateWebsiteMutationVariables>;
export const UpdateWebsiteDocument = new TypedDocumentString(`
    mutation UpdateWebsite($id: ID!, $input: UpdateWebsiteInput!) {
  updateWebsite(id: $id, input: $input) {
    ...WebsiteFields
  }
}
    fragment WebsiteFields on Website {
  id
  name
  domain
  createdAt
  settings {
    title
    welcomeMessage
    suggestedQuestions
    theme
    systemPrompt
    model
    temperature
    allowedOrigins
    timeZone
    retentionDays
  }
}`) as unknown as TypedDocumentString<UpdateWebsiteMutation, UpdateWebsiteMutationVariables>;
export const DeleteWebsiteDocument = new TypedDocumentString(`
    mutation DeleteWebsite($id: ID!) {
  deleteWebsite(id: $id)
}
    `) as unknown as TypedDocumentString<DeleteWebsiteMutation, DeleteWebsiteMutationVariables>;