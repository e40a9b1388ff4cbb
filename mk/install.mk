# `make install` / `make uninstall`: the binary into $(PREFIX)/bin and the
# man pages (docs/man, all section 1) into $(PREFIX)/share/man/man1, under
# $(DESTDIR) for staged installs (packages). The binary is installed as
# built (packaging tools strip it themselves).
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
INSTALL ?= install
INSTALL_MAN_PAGES := $(sort $(wildcard docs/man/*.1))

# Rules in a fragment must not become the default goal (fragments are read
# before `all:`); the goal in effect before this file is put back at its end.
INSTALL_MK_GOAL := $(.DEFAULT_GOAL)

.PHONY: install uninstall
install: build/capsa
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	$(INSTALL) -m 0755 build/capsa $(DESTDIR)$(BINDIR)/capsa
	$(INSTALL) -m 0644 $(INSTALL_MAN_PAGES) $(DESTDIR)$(MANDIR)/man1/
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/capsa $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(INSTALL_MAN_PAGES)))

.DEFAULT_GOAL := $(INSTALL_MK_GOAL)
