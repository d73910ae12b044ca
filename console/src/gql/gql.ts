/* eslint-disable */
import * as types from './graphql';



/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "fragment DocumentFields on Document {\n  id\n  filename\n  contentType\n  sizeBytes\n  status\n  error\n  chunkCount\n  createdAt\n  sourceUrl\n  downloadUrl\n}\n\nquery Documents($websiteId: ID!, $first: Int!, $after: String) {\n  documents(websiteId: $websiteId, first: $first, after: $after) {\n    nodes {\n      ...DocumentFields\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}\n\nmutation UploadDocument($websiteId: ID!, $file: Upload!) {\n  uploadDocument(websiteId: $websiteId, file: $file) {\n    ...DocumentFields\n  }\n}\n\nmutation DeleteDocument($id: ID!) {\n  deleteDocument(id: $id)\n}\n\nsubscription DocumentStatus($documentId: ID!) {\n  documentStatus(documentId: $documentId) {\n    ...DocumentFields\n  }\n}": typeof types.DocumentFieldsFragmentDoc,
    "mutation RedeemConsoleCode($code: String!) {\n  redeemConsoleCode(code: $code) {\n    accessToken\n    expiresAt\n  }\n}": typeof types.RedeemConsoleCodeDocument,
    "fragment WebsiteFields on Website {\n  id\n  name\n  domain\n  createdAt\n  settings {\n    title\n    welcomeMessage\n    suggestedQuestions\n    theme\n    systemPrompt\n    model\n    temperature\n    allowedOrigins\n    timeZone\n    retentionDays\n  }\n}\n\nquery Websites {\n  websites {\n    ...WebsiteFields\n  }\n}\n\nquery Website($id: ID!) {\n  website(id: $id) {\n    ...WebsiteFields\n  }\n}\n\nmutation CreateWebsite($input: CreateWebsiteInput!) {\n  createWebsite(input: $input) {\n    ...WebsiteFields\n  }\n}\n\nmutation UpdateWebsite($id: ID!, $input: UpdateWebsiteInput!) {\n  updateWebsite(id: $id, input: $input) {\n    ...WebsiteFields\n  }\n}\n\nmutation DeleteWebsite($id: ID!) {\n  deleteWebsite(id: $id)\n}": typeof types.WebsiteFieldsFragmentDoc,
};
const documents: Documents = {
    "fragment DocumentFields on Document {\n  id\n  filename\n  contentType\n  sizeBytes\n  status\n  error\n  chunkCount\n  createdAt\n  sourceUrl\n  downloadUrl\n}\n\nquery Documents($websiteId: ID!, $first: Int!, $after: String) {\n  documents(websiteId: $websiteId, first: $first, after: $after) {\n    nodes {\n      ...DocumentFields\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}\n\nmutation UploadDocument($websiteId: ID!, $file: Upload!) {\n  uploadDocument(websiteId: $websiteId, file: $file) {\n    ...DocumentFields\n  }\n}\n\nmutation DeleteDocument($id: ID!) {\n  deleteDocument(id: $id)\n}\n\nsubscription DocumentStatus($documentId: ID!) {\n  documentStatus(documentId: $documentId) {\n    ...DocumentFields\n  }\n}": types.DocumentFieldsFragmentDoc,
    "mutation RedeemConsoleCode($code: String!) {\n  redeemConsoleCode(code: $code) {\n    accessToken\n    expiresAt\n  }\n}": types.RedeemConsoleCodeDocument,
    "fragment WebsiteFields on Website {\n  id\n  name\n  domain\n  createdAt\n  settings {\n    title\n    welcomeMessage\n    suggestedQuestions\n    theme\n    systemPrompt\n    model\n    temperature\n    allowedOrigins\n    timeZone\n    retentionDays\n  }\n}\n\nquery Websites {\n  websites {\n    ...WebsiteFields\n  }\n}\n\nquery Website($id: ID!) {\n  website(id: $id) {\n    ...WebsiteFields\n  }\n}\n\nmutation CreateWebsite($input: CreateWebsiteInput!) {\n  createWebsite(input: $input) {\n    ...WebsiteFields\n  }\n}\n\nmutation UpdateWebsite($id: ID!, $input: UpdateWebsiteInput!) {\n  updateWebsite(id: $id, input: $input) {\n    ...WebsiteFields\n  }\n}\n\nmutation DeleteWebsite($id: ID!) {\n  deleteWebsite(id: $id)\n}": types.WebsiteFieldsFragmentDoc,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "fragment DocumentFields on Document {\n  id\n  filename\n  contentType\n  sizeBytes\n  status\n  error\n  chunkCount\n  createdAt\n  sourceUrl\n  downloadUrl\n}\n\nquery Documents($websiteId: ID!, $first: Int!, $after: String) {\n  documents(websiteId: $websiteId, first: $first, after: $after) {\n    nodes {\n      ...DocumentFields\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}\n\nmutation UploadDocument($websiteId: ID!, $file: Upload!) {\n  uploadDocument(websiteId: $websiteId, file: $file) {\n    ...DocumentFields\n  }\n}\n\nmutation DeleteDocument($id: ID!) {\n  deleteDocument(id: $id)\n}\n\nsubscription DocumentStatus($documentId: ID!) {\n  documentStatus(documentId: $documentId) {\n    ...DocumentFields\n  }\n}"): typeof import('./graphql').DocumentFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation RedeemConsoleCode($code: String!) {\n  redeemConsoleCode(code: $code) {\n    accessToken\n    expiresAt\n  }\n}"): typeof import('./graphql').RedeemConsoleCodeDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "fragment WebsiteFields on Website {\n  id\n  name\n  domain\n  createdAt\n  settings {\n    title\n    welcomeMessage\n    suggestedQuestions\n    theme\n    systemPrompt\n    model\n    temperature\n    allowedOrigins\n    timeZone\n    retentionDays\n  }\n}\n\nquery Websites {\n  websites {\n    ...WebsiteFields\n  }\n}\n\nquery Website($id: ID!) {\n  website(id: $id) {\n    ...WebsiteFields\n  }\n}\n\nmutation CreateWebsite($input: CreateWebsiteInput!) {\n  createWebsite(input: $input) {\n    ...WebsiteFields\n  }\n}\n\nmutation UpdateWebsite($id: ID!, $input: UpdateWebsiteInput!) {\n  updateWebsite(id: $id, input: $input) {\n    ...WebsiteFields\n  }\n}\n\nmutation DeleteWebsite($id: ID!) {\n  deleteWebsite(id: $id)\n}"): typeof import('./graphql').WebsiteFieldsFragmentDoc;


export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}
