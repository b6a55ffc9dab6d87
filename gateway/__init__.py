"""The venue gateway: a container app that owns each external venue's connection.

One gateway owns a venue at a time (it holds the venue's session on the venues queue, a
lease), connects with the venue's connector, and reconnects with back-off. See
`gateway.service` for the ownership loop and `gateway.fix` for the FIX 4.4 connector.
"""
