// Type-checks a learner's exercise file (and what it imports) with the project's compiler settings,
// before or while its checks run: a milestone does not pass while its file has type errors.
import path from 'node:path';
import ts from 'typescript';

/** "milestones/05-…/acks-prefetch.ts:12:5 - TS2345: Argument of type …", one per error in the learner's files. */
export function typeErrorsIn(file: string, root = process.cwd()): string[] {
  const configPath = ts.findConfigFile(root, ts.sys.fileExists, 'tsconfig.json');
  const config = configPath ? ts.getParsedCommandLineOfConfigFile(configPath, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} }) : undefined;
  const options: ts.CompilerOptions = { ...(config?.options ?? { strict: true }), noEmit: true, skipLibCheck: true, incremental: false };
  const absolute = path.resolve(root, file);
  const program = ts.createProgram([absolute], options);
  // Errors in the workshop's own files are not the learner's to fix: only their milestone folder counts.
  const learnerFolder = path.dirname(absolute) + path.sep;
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file && d.file.fileName.startsWith(learnerFolder))
    .map((d) => {
      const { line, character } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
      return `${path.relative(root, d.file!.fileName)}:${line + 1}:${character + 1} - TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
}
