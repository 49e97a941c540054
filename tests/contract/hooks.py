# Schemathesis hooks for tests/contract/run.sh (loaded through SCHEMATHESIS_HOOKS).
# `POST /admin/import` takes NDJSON (application/x-ndjson), a media type Schemathesis has no
# serializer for: the generated body (a string, per the document) is sent as its UTF-8 bytes.
import json

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return json.dumps(value).encode("utf-8")
