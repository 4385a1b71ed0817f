# Build stage: compile the release binary (migrations are embedded at compile time).
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
HEALTHCHECK CMD ["/bin/bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080"]
ENTRYPOINT ["linkedin-scim"]
CMD ["serve"]
