// The `ipaas:connector/log` import: warnings and errors to stderr; debug with NODE_HOST_VERBOSE.
const shown = process.env.NODE_HOST_VERBOSE ? ['trace', 'debug', 'info', 'warn', 'error'] : ['warn', 'error'];

export function log(level, message) {
  if (shown.includes(level)) process.stderr.write(`[connector ${level}] ${message}\n`);
}
