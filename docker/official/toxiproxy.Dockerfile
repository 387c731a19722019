# Toxiproxy from its official image (needs a registry). The lab passes the server's flags as arguments.
FROM ghcr.io/shopify/toxiproxy:2.12.0
ENTRYPOINT ["/toxiproxy"]
