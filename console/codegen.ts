// GraphQL Code Generator: typed documents for the console's operations
// (src/operations/*.graphql) over the committed ../schema.graphql. `npm run codegen`
// writes src/gql/ (committed; tests/web/test_console.py fails when it drifts).
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "../schema.graphql",
  documents: "src/operations/*.graphql",
  generates: {
    "src/gql/": {
      preset: "client",
      presetConfig: { fragmentMasking: false },
      config: {
        // Documents as strings: no GraphQL parser in the bundle.
        documentMode: "string",
        enumsAsTypes: true,
        useTypeImports: true,
        scalars: { DateTime: "string", JSON: "unknown", Upload: "File" },
      },
    },
  },
  silent: true,
};

export default config;
