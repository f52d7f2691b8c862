# syntax=docker/dockerfile:1
#
# One image for every Postbridge binary. The command picks the service:
#
#   docker build -t postbridge .
#   docker run --rm postbridge auth-gateway          # also: account-registry, token-refresher,
#                                                    #       publisher, platform-sim, postbridge-token
#   docker run --rm -e POSTBRIDGE_MIGRATE_ONLY=1 postbridge auth-gateway   # migrate and exit
#
# Configuration: /app/config (POSTBRIDGE_ENV=production by default) overridden by
# POSTBRIDGE__SECTION__KEY environment variables, e.g. POSTBRIDGE__DATABASE__URL.

############################ build ############################
FROM rust:1-bookworm AS build

# libpq is built from source into the binaries (pq-sys "bundled", see Cargo.toml), with TLS
# through the system OpenSSL: its headers and pkg-config to find them.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libssl-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY . .

# The registry and target caches survive between builds (BuildKit); the binaries are copied
# out of the cached target directory because cache mounts are not part of the image.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked --bins \
    && mkdir -p /out \
    && for bin in auth-gateway account-registry token-refresher publisher platform-sim postbridge-token; do \
         install -m 0755 "target/release/$bin" /out/; \
       done

############################ runtime ############################
FROM debian:bookworm-slim AS runtime

# libssl3: TLS to PostgreSQL (the linked-in libpq uses it); ca-certificates: TLS to the
# platforms; curl: container health checks (`curl -fsS http://127.0.0.1:PORT/readyz`).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libssl3 ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 postbridge \
    && useradd --system --uid 10001 --gid postbridge --home-dir /app --no-create-home \
         --shell /usr/sbin/nologin postbridge \
    && mkdir -p /app/data \
    && chown postbridge:postbridge /app/data

WORKDIR /app
COPY config/ /app/config/
COPY --from=build /out/ /usr/local/bin/

ENV POSTBRIDGE_ENV=production \
    POSTBRIDGE_CONFIG_DIR=/app/config

# Numeric, so Kubernetes' runAsNonRoot can verify it.
USER 10001:10001

EXPOSE 8080 8081 8082 8083 8090

# No ENTRYPOINT: the command is the binary to run.
CMD ["auth-gateway"]
