# The commit capsa is built from, shown by `capsa --version` (src/cli/main.c).
# From `git describe` in a git checkout of this tree, "unknown" elsewhere (a
# release tarball unpacked inside some other repository must not pick up that
# repository's commit); packagers can set it: make CAPSA_COMMIT=....
ifeq ($(origin CAPSA_COMMIT),undefined)
# When git cannot read the checkout (another user's tree, as for `su -c 'make
# install'`), the commit recorded by the last build is kept rather than
# relinking the binary as "unknown".
CAPSA_COMMIT := $(shell { [ -e .git ] && git describe --always --dirty --abbrev=12 2>/dev/null \
                  | tr -cd 'A-Za-z0-9._+-' | grep .; } || cat build/commit 2>/dev/null || echo unknown)
endif

# Rules in a fragment must not become the default goal (fragments are read
# before `all:`); the goal in effect before this file is put back at its end.
VERSION_MK_GOAL := $(.DEFAULT_GOAL)

# build/commit holds the commit string and is rewritten only when it changes,
# so main.o is rebuilt exactly when the commit (or the dirty flag) changes.
.PHONY: version-force
build/commit: version-force
	@mkdir -p $(dir $@)
	@echo '$(CAPSA_COMMIT)' | cmp -s - $@ || echo '$(CAPSA_COMMIT)' >$@

VERSION_OBJS := build/obj/src/cli/main.o build/asan/obj/src/cli/main.o
$(VERSION_OBJS): build/commit
$(VERSION_OBJS): CFLAGS_REL += -DCAPSA_COMMIT='"$(CAPSA_COMMIT)"'
$(VERSION_OBJS): CFLAGS_SAN += -DCAPSA_COMMIT='"$(CAPSA_COMMIT)"'

.DEFAULT_GOAL := $(VERSION_MK_GOAL)
