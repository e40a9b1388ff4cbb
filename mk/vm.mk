# capsa vm: the CLI's --json-events output uses json-c.
LDLIBS += -ljson-c
