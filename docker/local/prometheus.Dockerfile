# Prometheus from this machine's binary (Debian's package) and the libraries it links.
FROM scratch
COPY rootfs/ /
USER 65534:65534
ENTRYPOINT ["/bin/prometheus"]
