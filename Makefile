# Translation workflow (Babel). The catalogs are registry/web/locale/{lang}/LC_MESSAGES/messages.po;
# the server compiles them in memory when it starts using them, so nothing here must run before
# `serve`. PYBABEL can point at another pybabel (default: the project's venv).
PYBABEL ?= .venv/bin/pybabel
LOCALES := registry/web/locale
POT := $(LOCALES)/messages.pot

.PHONY: messages language translations-check

# Extract every marked string (Python and templates) and merge the changes into each catalog.
messages:
	$(PYBABEL) extract -F babel.cfg -k _ -k gettext -k ngettext:1,2 --no-location --sort-output \
	  --project commons-registry -o $(POT) .
	$(PYBABEL) update -i $(POT) -d $(LOCALES) --no-fuzzy-matching --ignore-obsolete

# Start a new language: make language LANG=pt
language:
	@test -n "$(LANG)" || { echo "usage: make language LANG=xx"; exit 2; }
	$(PYBABEL) init -i $(POT) -d $(LOCALES) -l $(LANG)

# Compile every catalog into a scratch folder and print how much of each is translated.
translations-check:
	@scratch=$$(mktemp -d) && cp -r $(LOCALES)/. $$scratch && \
	  $(PYBABEL) compile --statistics -d $$scratch; status=$$?; rm -rf $$scratch; exit $$status
