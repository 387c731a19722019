# Prometheus from its official image (needs a registry); the same 2.x line as Debian's package.
FROM prom/prometheus:v2.42.0
ENTRYPOINT ["/bin/prometheus"]
