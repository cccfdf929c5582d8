# Build: the release binary. Run: a slim image with only the binary.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY migrations migrations
COPY seed seed
RUN cargo build --release --locked && strip target/release/learnweek

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/learnweek /usr/local/bin/learnweek
USER nobody
ENV LEARNWEEK_BIND=0.0.0.0:8080 RUST_LOG=info
EXPOSE 8080
ENTRYPOINT ["learnweek"]
CMD ["serve"]
