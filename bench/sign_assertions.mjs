// Pre-signs app assertions for POST /application/token, one JWT per line, so that signing is
// not part of the timed run. Uses only Node's built-in crypto (OpenSSL): ~0.5 ms a JWT.
//   node bench/sign_assertions.mjs <private-key.pem> <client_id> <count> <out-file>
// Header {"alg":"RS256","typ":"JWT"}; claims {iss, iat: now, exp: now+600, jti: unique}.
import { createPrivateKey, randomBytes, sign } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";

const [pemPath, clientId, countArg, out] = process.argv.slice(2);
const count = Number.parseInt(countArg, 10);
if (!pemPath || !clientId || !(count > 0) || !out) {
  console.error("usage: sign_assertions.mjs <key.pem> <client_id> <count> <out>");
  process.exit(2);
}
const key = createPrivateKey(readFileSync(pemPath, "utf8"));
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
const header = b64({ alg: "RS256", typ: "JWT" });
const now = Math.floor(Date.now() / 1000);
const prefix = randomBytes(6).toString("hex");
const lines = [];
for (let i = 0; i < count; i++) {
  const input = `${header}.${b64({ iss: clientId, iat: now, exp: now + 600, jti: `${prefix}-${i}` })}`;
  const sig = sign("sha256", Buffer.from(input), key).toString("base64url");
  lines.push(`${input}.${sig}`);
}
writeFileSync(out, lines.join("\n") + "\n");
