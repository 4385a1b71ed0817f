# Build stage: compile the release binary (migrations are embedded at compile time).
# It copies every workspace member and what their manifests name (the root package's
# `[[bench]]` targets make Cargo read benches/); fuzz/ is its own workspace and stays
# out. `.dockerignore` keeps target/ and .git out of the context, and
# scripts/docker-context.sh (in CI) builds exactly this context without Docker.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY crates ./crates
COPY benches ./benches
RUN cargo build --release --locked && strip target/release/linkedin-scim

# Runtime stage: a small Debian image, running as an unprivileged user.
FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --home /data scim && mkdir -p /data /app/config && chown scim /data
COPY --from=build /src/target/release/linkedin-scim /usr/local/bin/linkedin-scim
COPY config /app/config
WORKDIR /app
USER scim
ENV LINKEDIN_SCIM_BIND=0.0.0.0:8080 \
    LINKEDIN_SCIM_DATABASE_URL=sqlite:///data/linkedin-scim.db
VOLUME ["/data"]
EXPOSE 8080
# Ready means the database answers too (`/readyz`); the binary asks it, as the image has
# no curl. The bind address above, as a client calls it.
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=3 \
    CMD ["linkedin-scim", "health", "--server", "http://127.0.0.1:8080"]
ENTRYPOINT ["linkedin-scim"]
CMD ["serve"]
