# trackerd in a container: built in rust:slim, run in debian:slim.
#   docker build -t trackerd .
#   docker run -p 8080:8080 -v trackerd-data:/data trackerd
# (Not built in CI: the CI machine has no container runtime.)
FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --profile dist --locked -p trackerd \
    && cp target/dist/trackerd /usr/local/bin/trackerd

FROM debian:bookworm-slim
RUN useradd --system --home /data trackerd \
    && install -d -o trackerd -g trackerd /data
COPY --from=build /usr/local/bin/trackerd /usr/local/bin/trackerd
USER trackerd
WORKDIR /data
ENV TRACKERD_LISTEN=0.0.0.0:8080 \
    TRACKERD_DATABASE=sqlite:///data/trackerd.db
EXPOSE 8080
VOLUME ["/data"]
# Probes: GET /readyz (the database answers) and /_trackerd/health (the
# process does) -- from the orchestrator: the image has no HTTP client.
ENTRYPOINT ["trackerd"]
CMD ["serve"]
