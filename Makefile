# Build and install samverkand, samverkanctl and their systemd integration.
#
#   make build                                  release build (samverkanctl with the Swift runtime linked in)
#   sudo make install                           to PREFIX=/usr/local
#   make install DESTDIR=/tmp/root PREFIX=/usr  staged install, e.g. for a package
#   make install BUILD_DIR=.build/debug         install prebuilt binaries; swift is not run
#   sudo make uninstall                         removes what install put, keeps /etc and state
#
# Every directory below is one that systemd 252 really searches, for both PREFIX=/usr and
# PREFIX=/usr/local: units in /usr/local/lib/systemd/system (systemd-analyze unit-paths),
# sysusers.d in /usr/local/lib/sysusers.d, and catalogs in /usr/local/lib/systemd/catalog
# (journalctl --update-catalog reads both /usr/lib/systemd/catalog and that one). With any
# other PREFIX, pass SYSTEMDUNITDIR, SYSUSERSDIR and CATALOGDIR explicitly.

SWIFT ?= swift
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
CATALOGDIR ?= $(PREFIX)/lib/systemd/catalog
SYSCONFDIR ?= /etc
CONFDIR ?= $(SYSCONFDIR)/samverkan
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/vendor-completions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d

# Where the binaries come from. The default asks SwiftPM for the release directory; the `$$`
# leaves that to the shell of the recipes that use it, so `make install BUILD_DIR=…` (or any
# target that does not install) never runs swift.
BUILD_DIR ?= $$($(SWIFT) build -c release --show-bin-path)

# The example config is installed world-readable: the daemon reads it as the unprivileged user
# samverkan, which may not exist yet when installing into DESTDIR. It holds no secrets (SMTP
# passwords and webhook secrets live in password_file/secret_file or systemd credentials).
# A site that wants 0640 can say `make install CONFIG_MODE=0640 CONFIG_GROUP=samverkan`.
CONFIG_MODE ?= 0644
CONFIG_GROUP ?=

INSTALL ?= install
BINARIES = samverkand samverkanctl

.PHONY: all build install install-bin install-docs install-systemd install-config uninstall man

all: build

# samverkanctl with the Swift runtime and Foundation linked in: it starts in about half the time
# (no dynamic loading of the runtime) and needs no toolchain. samverkand uses the toolchain's
# shared runtime: a statically linked one hides the hook through which SwiftNIO takes over
# Swift concurrency's global executor, and on libdispatch's global queues the daemon would wake
# once a second for good (libdispatch's workqueue monitor). The order matters: both go to the
# same release directory, samverkanctl last.
build:
	$(SWIFT) build -c release --product samverkand
	$(SWIFT) build -c release --static-swift-stdlib --product samverkanctl

install: install-bin install-docs install-systemd install-config
	@# On the live system (no DESTDIR) do what a package's postinst would: create the user,
	@# rebuild the catalog, and let a running systemd see the new units. Enabling is left to
	@# the admin: systemctl enable --now samverkand.service
	@if [ -z "$(DESTDIR)" ]; then \
		set -x; \
		systemd-sysusers samverkan.conf; \
		journalctl --update-catalog; \
		if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi; \
	fi

install-bin:
	@bin_dir="$(BUILD_DIR)"; \
	for b in $(BINARIES); do \
		if [ ! -x "$$bin_dir/$$b" ]; then \
			echo "error: $$bin_dir/$$b not found: run 'make build' or pass BUILD_DIR=" >&2; \
			exit 1; \
		fi; \
	done; \
	set -x; \
	$(INSTALL) -d -m 0755 "$(DESTDIR)$(BINDIR)"; \
	for b in $(BINARIES); do \
		$(INSTALL) -m 0755 "$$bin_dir/$$b" "$(DESTDIR)$(BINDIR)/$$b"; \
	done

# Man pages (docs/man: samverkanctl.1 is generated from the argument parser by `make man`)
# and shell completions, which samverkanctl writes itself.
install-docs:
	$(INSTALL) -d -m 0755 "$(DESTDIR)$(MANDIR)/man1" "$(DESTDIR)$(MANDIR)/man8"
	$(INSTALL) -m 0644 docs/man/samverkanctl.1 "$(DESTDIR)$(MANDIR)/man1/samverkanctl.1"
	$(INSTALL) -m 0644 docs/man/samverkand.8 "$(DESTDIR)$(MANDIR)/man8/samverkand.8"
	@bin_dir="$(BUILD_DIR)"; set -x; \
	$(INSTALL) -d -m 0755 "$(DESTDIR)$(BASHCOMPDIR)" "$(DESTDIR)$(ZSHCOMPDIR)" "$(DESTDIR)$(FISHCOMPDIR)"; \
	"$$bin_dir/samverkanctl" --generate-completion-script bash > "$(DESTDIR)$(BASHCOMPDIR)/samverkanctl"; \
	"$$bin_dir/samverkanctl" --generate-completion-script zsh > "$(DESTDIR)$(ZSHCOMPDIR)/_samverkanctl"; \
	"$$bin_dir/samverkanctl" --generate-completion-script fish > "$(DESTDIR)$(FISHCOMPDIR)/samverkanctl.fish"

# Regenerates docs/man/samverkanctl.1 from the argument parser (builds swift-argument-parser's
# generate-manual tool, about two minutes the first time).
man:
	$(SWIFT) package --allow-writing-to-package-directory generate-manual
	cp .build/plugins/GenerateManual/outputs/samverkanctl/samverkanctl.1 docs/man/samverkanctl.1

install-systemd:
	$(INSTALL) -d -m 0755 "$(DESTDIR)$(SYSTEMDUNITDIR)" "$(DESTDIR)$(SYSUSERSDIR)" "$(DESTDIR)$(CATALOGDIR)"
	sed 's|^ExecStart=/usr/bin/|ExecStart=$(BINDIR)/|' systemd/samverkand.service > "$(DESTDIR)$(SYSTEMDUNITDIR)/samverkand.service"
	chmod 0644 "$(DESTDIR)$(SYSTEMDUNITDIR)/samverkand.service"
	$(INSTALL) -m 0644 systemd/samverkand.socket "$(DESTDIR)$(SYSTEMDUNITDIR)/samverkand.socket"
	$(INSTALL) -m 0644 systemd/samverkan.sysusers "$(DESTDIR)$(SYSUSERSDIR)/samverkan.conf"
	$(INSTALL) -m 0644 systemd/samverkan.catalog "$(DESTDIR)$(CATALOGDIR)/samverkan.catalog"

# Copies the example config, file by file, and never overwrites a file that is already there:
# /etc/samverkan belongs to the admin once installed.
install-config:
	@$(INSTALL) -d -m 0755 "$(DESTDIR)$(CONFDIR)"
	@cd Config && find . -path '*/.*' -prune -o -type f -print | sort | while read -r f; do \
		case "$$f" in ./samverkand.yaml|./agreements.d/*|./templates/*) ;; *) continue ;; esac; \
		target="$(DESTDIR)$(CONFDIR)/$${f#./}"; \
		if [ -e "$$target" ]; then \
			echo "keeping existing $$target"; \
		else \
			$(INSTALL) -d -m 0755 "$$(dirname "$$target")" && \
			$(INSTALL) -m $(CONFIG_MODE) $(if $(CONFIG_GROUP),-g $(CONFIG_GROUP)) "$$f" "$$target" && \
			echo "installed $$target"; \
		fi; \
	done
	@# An empty agreements.d is still a valid place to put agreements.
	@$(INSTALL) -d -m 0755 "$(DESTDIR)$(CONFDIR)/agreements.d"

# Removes what install put in place, except the config in $(CONFDIR) and the state in
# /var/lib/samverkan, which hold the admin's agreements and the delivery history.
uninstall:
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then \
		set -x; systemctl disable --now samverkand.service samverkand.socket || true; \
	fi
	rm -f $(foreach b,$(BINARIES),"$(DESTDIR)$(BINDIR)/$(b)")
	rm -f "$(DESTDIR)$(SYSTEMDUNITDIR)/samverkand.service" "$(DESTDIR)$(SYSTEMDUNITDIR)/samverkand.socket"
	rm -f "$(DESTDIR)$(SYSUSERSDIR)/samverkan.conf" "$(DESTDIR)$(CATALOGDIR)/samverkan.catalog"
	rm -f "$(DESTDIR)$(MANDIR)/man1/samverkanctl.1" "$(DESTDIR)$(MANDIR)/man8/samverkand.8"
	rm -f "$(DESTDIR)$(BASHCOMPDIR)/samverkanctl" "$(DESTDIR)$(ZSHCOMPDIR)/_samverkanctl" "$(DESTDIR)$(FISHCOMPDIR)/samverkanctl.fish"
	@if [ -z "$(DESTDIR)" ]; then \
		set -x; \
		journalctl --update-catalog; \
		if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi; \
	fi
	@echo "kept $(DESTDIR)$(CONFDIR) and /var/lib/samverkan; the user samverkan stays too (remove by hand)"
