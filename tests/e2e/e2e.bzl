"""End-to-end tests declared once and run against both layouts."""

def e2e_test(name, srcs, data, deps, size = "large"):
    """Declares two cc_tests from one stanza.

    `name` runs against one process per service; `<name less _test>_3_shards_test`
    runs the same sources against three shards of membership, accrual and
    redemption ($MB_TEST_SHARDS, read by tests/support/system.h).
    """
    if not name.endswith("_test"):
        fail("e2e_test: name must end with _test: " + name)
    layouts = [
        (name, {}),
        (name[:-len("_test")] + "_3_shards_test", {"MB_TEST_SHARDS": "3"}),
    ]
    for test_name, env in layouts:
        native.cc_test(
            name = test_name,
            size = size,
            srcs = srcs,
            data = data,
            env = env,
            deps = deps,
        )
