# OCI runtime (src/oci, src/cli/oci*.c): libraries it links against.
LDLIBS += -ljson-c -lseccomp -lcap
# Paths are built into fixed buffers sized for PATH_MAX; truncation would
# only produce a path that fails to open, so gcc's speculative warning is off.
build/obj/src/oci/%.o build/asan/obj/src/oci/%.o build/obj/src/cli/oci%.o build/asan/obj/src/cli/oci%.o: CFLAGS_REL += -Wno-format-truncation
build/obj/src/oci/%.o build/asan/obj/src/oci/%.o build/obj/src/cli/oci%.o build/asan/obj/src/cli/oci%.o build/asan/tests/oci/%: CFLAGS_SAN += -Wno-format-truncation
