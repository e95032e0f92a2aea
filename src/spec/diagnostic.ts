// A problem found in a config, as the library returns it (validateConfig)
// and as the CLI prints it: one line `config.json: <pointer>: <message>`.
// The checks build them with their JSON path, so no line is parsed back.

export interface Diagnostic {
  severity: 'error' | 'warning';
  /** JSON pointer into the config ("/process/cwd"), "/" for the whole document. */
  path: string;
  message: string;
}

export const configError = (path: string, message: string): Diagnostic => ({ severity: 'error', path, message });
export const configWarning = (path: string, message: string): Diagnostic => ({ severity: 'warning', path, message });

export const isError = (d: Diagnostic): boolean => d.severity === 'error';

/**
 * A message of a checker outside src/spec that names its own JSON path
 * ("/process/execCPUAffinity/initial: …").
 */
export function fromPathMessage(severity: Diagnostic['severity'], text: string): Diagnostic {
  const m = /^(\/\S*): ([\s\S]*)$/.exec(text);
  return m ? { severity, path: m[1], message: m[2] } : { severity, path: '/', message: text };
}

/** The line the CLI prints and logs. */
export const diagnosticLine = (d: Diagnostic): string => `config.json: ${d.path}: ${d.message}`;
