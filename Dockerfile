# syntax=docker/dockerfile:1
# mlpipe and mlserve in one image: static binaries on distroless, run as
# a non-root user. `docker build -t mlpipe .` builds it with a daemon;
# docs/deploy.md shows how the Kubernetes manifests use it.
#
#   mlserve: docker run -p 8080:8080 mlpipe (the default entrypoint)
#   mlpipe:  docker run --entrypoint /mlpipe mlpipe run --config ...

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG REVISION=devel
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/mlpipe/mlpipe/internal/version.Revision=${REVISION}" -o /out/mlserve ./cmd/mlserve && \
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/mlpipe/mlpipe/internal/version.Revision=${REVISION}" -o /out/mlpipe ./cmd/mlpipe

FROM gcr.io/distroless/static-debian12:nonroot
LABEL org.opencontainers.image.title="mlpipe" \
      org.opencontainers.image.source="https://github.com/mlpipe/mlpipe"
COPY --from=build /out/mlserve /out/mlpipe /
COPY configs /configs
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/mlserve"]
CMD ["--addr", "0.0.0.0:8080"]
