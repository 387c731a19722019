# The Node.js runtime for toys, from this machine's files only (no registry): the `node` binary the lab runs on,
# the shared libraries `ldd` lists for it and the dynamic loader, staged into rootfs/ by `chaoslab images build`.
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/bin
USER 65534:65534
