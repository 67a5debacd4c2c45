/**
 * Quoting for a POSIX shell. An SSH exec request is a single string that the remote user's login
 * shell parses, so every argv word is wrapped in single quotes, inside which a POSIX shell
 * interprets nothing; a single quote itself is written as '\'' (close, escaped quote, reopen).
 * Every word is quoted, even a plain one, so no word can ever be read as an operator, glob,
 * variable or comment, and the empty string stays an argument.
 */
import { FloodgateError } from '../../core/errors.js';

export function posixQuote(word: string): string {
  if (word.includes('\0')) {
    // A C string ends at NUL: no process can receive this word, quoted or not.
    throw new FloodgateError('FG_ERR_EXEC_START', 'a command argument contains a NUL byte', {
      word: JSON.stringify(word),
    });
  }
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** The command line a POSIX shell splits back into exactly `argv`. */
export function posixCommand(argv: readonly string[]): string {
  return argv.map(posixQuote).join(' ');
}
