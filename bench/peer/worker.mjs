// The benchmark's peer: @cloudflare/workers-oauth-provider (bench/peer/package.json pins it) as
// the smallest worker it documents, one OAuthProvider with an API route and a default handler.
// bench/run.sh serves it under the same `wrangler dev` as Portcullis, side by side in one run:
// - GET /.well-known/oauth-authorization-server: the library's own metadata endpoint;
// - GET /__bench/empty: the default handler's empty 200, the floor of a request through the
//   library (its router, then a handler that does nothing), compared with Portcullis' own
//   /__bench/empty (a request through its entry, routing and log line, doing nothing).
import { OAuthProvider } from "@cloudflare/workers-oauth-provider";

const defaultHandler = {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/__bench/empty") return new Response("", { status: 200 });
    return new Response("not found", { status: 404 });
  },
};

const apiHandler = {
  async fetch() {
    return Response.json({ ok: true });
  },
};

export default new OAuthProvider({
  apiRoute: "/api/",
  apiHandler,
  defaultHandler,
  authorizeEndpoint: "/authorize",
  tokenEndpoint: "/oauth/token",
  clientRegistrationEndpoint: "/oauth/register",
  scopesSupported: ["public"],
  // The combined provider is also its API's resource server; its metadata names that resource.
  resourceMetadata: {
    resource: "https://bench.example/api/",
    authorization_servers: ["https://bench.example"],
  },
});
