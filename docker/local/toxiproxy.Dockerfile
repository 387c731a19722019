# Toxiproxy from this machine's binary (scripts/setup.sh builds it with go install) and the libraries it links.
FROM scratch
COPY rootfs/ /
USER 65534:65534
ENTRYPOINT ["/usr/local/bin/toxiproxy-server"]
