# virtio-net backends (src/net): user-mode networking through libslirp.
# Debian ships libslirp only as a shared library (it needs glibc's shared
# libc), so the release binary links glibc and libslirp dynamically and keeps
# its other libraries (json-c, seccomp, cap, zlib, zstd) static: the shared
# ones come first, -Bstatic covers the rest, -Bdynamic at the end for libc.
STATIC := -Wl,--no-as-needed -Wl,-Bdynamic -lslirp -lm -lpthread -Wl,-Bstatic
build/capsa: LDLIBS += -Wl,-Bdynamic
build/asan/capsa build/asan/tests/%: LDLIBS += -lslirp
