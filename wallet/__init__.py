"""The project's own OID4VCI 1.0 wallet: `frontdesk --self-test`, the tests and the benchmarks use it.

It imports nothing from `issuer` or `app`, so that what it checks is checked independently.
`client` runs the Pre-Authorized Code Flow and `code_flow` the Authorization Code Flow, over
`transport`; `keys` makes holder keys and proofs; `verify` checks issued credentials.
"""
