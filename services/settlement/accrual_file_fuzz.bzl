"""cc_fuzz_inputs: the sources, headers and link flags of C++ libraries, for a
test that compiles them itself with another compiler (clang's libFuzzer,
while Bazel's toolchain is gcc).

The files are collected by an aspect from the libraries' own srcs and hdrs,
generated ones included, rather than listed by label: most source files and
generated files of other packages are private to them, and the list follows
the libraries' deps as they change.
"""

_CcSourcesInfo = provider(
    doc = "The srcs and hdrs of a cc_library and of everything it depends on.",
    fields = ["srcs", "hdrs"],
)

def _cc_sources_aspect_impl(target, ctx):
    own_srcs = getattr(ctx.rule.files, "srcs", [])
    own_hdrs = getattr(ctx.rule.files, "hdrs", [])
    deps = [
        dep[_CcSourcesInfo]
        for dep in getattr(ctx.rule.attr, "deps", [])
        if _CcSourcesInfo in dep
    ]
    return [_CcSourcesInfo(
        srcs = depset(
            [f for f in own_srcs if f.extension in ("cc", "cpp")],
            transitive = [dep.srcs for dep in deps],
        ),
        hdrs = depset(
            own_hdrs + [f for f in own_srcs if f.extension == "h"],
            transitive = [dep.hdrs for dep in deps],
        ),
    )]

_cc_sources_aspect = aspect(
    implementation = _cc_sources_aspect_impl,
    attr_aspects = ["deps"],
)

def _cc_fuzz_inputs_impl(ctx):
    srcs = depset(transitive = [dep[_CcSourcesInfo].srcs for dep in ctx.attr.deps])
    hdrs = depset(transitive = [dep[_CcSourcesInfo].hdrs for dep in ctx.attr.deps])
    link_flags = []
    for dep in ctx.attr.deps:
        for linker_input in dep[CcInfo].linking_context.linker_inputs.to_list():
            for flag in linker_input.user_link_flags:
                if flag not in link_flags:
                    link_flags.append(flag)

    # One line per item: "src <path>" (relative to the workspace's runfiles
    # folder) or "link <flag>".
    lines = ["src " + f.short_path for f in srcs.to_list()]
    lines += ["link " + flag for flag in link_flags]
    manifest = ctx.actions.declare_file(ctx.label.name + ".txt")
    ctx.actions.write(manifest, "\n".join(lines) + "\n")
    files = depset([manifest], transitive = [srcs, hdrs])
    return [DefaultInfo(
        files = depset([manifest]),
        runfiles = ctx.runfiles(transitive_files = files),
    )]

cc_fuzz_inputs = rule(
    implementation = _cc_fuzz_inputs_impl,
    doc = "Writes <name>.txt listing the .cc files (\"src <path>\") and link " +
          "flags (\"link <flag>\") of `deps` and everything below them; the " +
          "files themselves, headers included, are its runfiles.",
    attrs = {
        "deps": attr.label_list(
            providers = [CcInfo],
            aspects = [_cc_sources_aspect],
        ),
    },
)
