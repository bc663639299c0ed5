"""mb_proto_library: C++ messages (and optionally gRPC stubs) from .proto files.

The protobuf and gRPC source repositories cannot be fetched offline, so this
runs Debian's protoc and grpc_cpp_plugin in a genrule and wraps the outputs in
a cc_library. Contracts live under //protos and are imported from there
("mileagebank/common/v1/common.proto"); a service's private storage records
may live in its own package and are imported from the repository root.
"""

def mb_proto_library(name, srcs, deps = [], grpc = False, visibility = ["//visibility:public"]):
    """Declares `name` (cc_library) and `name_protos` (the .proto files, with deps').

    Args:
      name: the cc_library's name.
      srcs: .proto files of this package.
      deps: other mb_proto_library targets these files import.
      grpc: also generate gRPC service stubs.
      visibility: of both targets.
    """
    package = native.package_name()

    # Contracts under //protos import each other as "mileagebank/...";
    # a service's private records import as "services/<name>/...".
    if package.startswith("protos/"):
        proto_root = "protos"
        out_root = "$(GENDIR)/protos"
        strip_prefix = "/protos"
    else:
        proto_root = "."
        out_root = "$(GENDIR)"
        strip_prefix = None
    headers = []
    sources = []
    for src in srcs:
        base = src[:-len(".proto")]
        headers.append(base + ".pb.h")
        sources.append(base + ".pb.cc")
        if grpc:
            headers.append(base + ".grpc.pb.h")
            sources.append(base + ".grpc.pb.cc")

    native.filegroup(
        name = name + "_protos",
        srcs = srcs + [dep + "_protos" for dep in deps],
        visibility = visibility,
    )

    grpc_flags = ""
    if grpc:
        grpc_flags = ("--grpc_out=" + out_root + " " +
                      "--plugin=protoc-gen-grpc=/usr/bin/grpc_cpp_plugin ")
    native.genrule(
        name = name + "_generate",
        srcs = [":" + name + "_protos"],
        outs = headers + sources,
        cmd = ("/usr/bin/protoc -I" + proto_root + " -Iprotos -I/usr/include " +
               "--cpp_out=" + out_root + " " + grpc_flags +
               " ".join([package + "/" + src for src in srcs])),
        message = "protoc " + package,
    )

    system_deps = ["//third_party/system:protobuf"]
    if grpc:
        system_deps.append("//third_party/system:grpc")
    native.cc_library(
        name = name,
        srcs = sources,
        hdrs = headers,
        strip_include_prefix = strip_prefix,
        deps = deps + system_deps,
        visibility = visibility,
    )
