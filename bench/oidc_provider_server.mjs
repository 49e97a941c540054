// The peer for the benchmark's ratio: the Node `oidc-provider` package (exact version in
// package.json devDependencies) configured like Portcullis' client_credentials: one static
// confidential client (HTTP Basic), RS256 JWT access tokens signed with a fresh RSA-2048 key.
// JWT (not opaque) access tokens come from its resource indicators feature: every token
// request gets a default resource whose access token format is `jwt`.
//   npx --no-install node bench/oidc_provider_server.mjs <port> <client_id> <client_secret>
// Listens on 127.0.0.1:<port> only; prints one line `ready http://127.0.0.1:<port>` when up.
// Run with the Node 22 from node_modules (the `node` devDependency), as bench/run.sh does.
import { generateKeyPairSync } from "node:crypto";
import { createServer } from "node:http";
import Provider from "oidc-provider";

const [portArg, clientId, clientSecret] = process.argv.slice(2);
const port = Number.parseInt(portArg, 10);
if (!(port > 0) || !clientId || !clientSecret) {
  console.error("usage: oidc_provider_server.mjs <port> <client_id> <client_secret>");
  process.exit(2);
}

const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: "jwk" }), use: "sig", alg: "RS256", kid: "bench-rs256" };
const issuer = `http://127.0.0.1:${port}`;
const RESOURCE = "urn:portcullis-bench:api";

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      grant_types: ["client_credentials"],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: "client_secret_basic",
    },
  ],
  jwks: { keys: [jwk] },
  scopes: ["api"],
  ttl: { ClientCredentials: () => 3600 },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => RESOURCE,
      useGrantedResource: async () => true,
      getResourceServerInfo: async () => ({
        scope: "api",
        audience: RESOURCE,
        accessTokenTTL: 3600,
        accessTokenFormat: "jwt",
        jwt: { sign: { alg: "RS256" } },
      }),
    },
  },
});

const server = createServer(provider.callback());
server.keepAliveTimeout = 65_000;
server.listen(port, "127.0.0.1", () => {
  console.log(`ready ${issuer} (oidc-provider on Node ${process.version})`);
});
const stop = () => server.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
