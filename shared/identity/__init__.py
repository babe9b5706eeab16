"""Local identity: signing keys, Firebase-shaped ID tokens and the certificate endpoint.

Everything here is plain crypto and HTTP; the verifiers that check these tokens live in
`shared/adapters/local/local_identity.py` (local) and `shared/adapters/gcp/firebase_identity.py`.
"""

LOCAL_PROJECT = "farm-local"
"""The Firebase project id that local tokens are issued for and checked against."""

ISSUER_PREFIX = "https://securetoken.google.com/"
"""Firebase ID tokens carry `iss = ISSUER_PREFIX + project`."""
