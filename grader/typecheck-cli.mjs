// Child of typecheck.ts, where the native compiler (tsgo) is not installed: type-checks one exercise
// file (and what it imports) with the TypeScript API and the project's compiler settings, and sends
// back the errors in the learner's own folder, as "file:line:col - TSnnnn: message". Plain
// JavaScript on purpose: node starts it without the tsx loader (half a second sooner).
import path from 'node:path';
import ts from 'typescript';

/** @param {string} file @param {string} root @returns {string[]} */
export function typeErrorsIn(file, root = process.cwd()) {
  const configPath = ts.findConfigFile(root, ts.sys.fileExists, 'tsconfig.json');
  const config = configPath
    ? ts.getParsedCommandLineOfConfigFile(configPath, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })
    : undefined;
  const options = { ...(config?.options ?? { strict: true }), noEmit: true, skipLibCheck: true, incremental: false };
  const absolute = path.resolve(root, file);
  const program = ts.createProgram([absolute], options);
  // Errors in the workshop's own files are not the learner's to fix: only their milestone folder
  // counts, and only its files are checked (what they need of the rest is computed lazily; the
  // whole program, zod's types included, would take seconds longer).
  const learnerFolder = path.dirname(absolute) + path.sep;
  const learnerFiles = program.getSourceFiles().filter((f) => f.fileName.startsWith(learnerFolder));
  const diagnostics = [
    ...program.getOptionsDiagnostics(),
    ...learnerFiles.flatMap((f) => [...program.getSyntacticDiagnostics(f), ...program.getSemanticDiagnostics(f)]),
  ];
  return diagnostics
    .filter((d) => d.file && d.file.fileName.startsWith(learnerFolder))
    .map((d) => {
      const { line, character } = d.file.getLineAndCharacterOfPosition(d.start ?? 0);
      return `${path.relative(root, d.file.fileName)}:${line + 1}:${character + 1} - TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
}

const file = process.argv[2];
let errors = [];
try {
  if (file) errors = typeErrorsIn(file);
} catch {
  // A compiler that cannot run says nothing about the learner's code.
}
if (process.send) process.send({ errors }, () => process.exit(0));
else console.log(errors.join('\n'));
