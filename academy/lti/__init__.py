"""LMS launches: PACS Academy as an IMS LTI 1.3 tool with Assignment and Grade Services (pylti1p3).

`keys` (the tool's RSA keys per registration), `storage` (OIDC state and nonce as rows), `tool` (pylti1p3
wired to the database), `registrations` and `launches` (the services), `scores` (the AGS score outbox),
`forms` and `routes` (the org admin's page and the LTI endpoints, thin views).
"""
