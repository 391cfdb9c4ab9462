/**
 * commander's own errors (a missing option, an unknown command …) as the
 * hub's other messages: one line, Chinese first, commander's English in
 * parentheses, and where to find the usage. Help and version output are not
 * errors.
 */
import type { CommanderError } from 'commander';

const CHINESE: Record<string, string> = {
  'commander.missingMandatoryOptionValue': '缺少必需的选项',
  'commander.optionMissingArgument': '选项缺少值',
  'commander.missingArgument': '缺少参数',
  'commander.excessArguments': '参数过多',
  'commander.unknownOption': '未知选项',
  'commander.unknownCommand': '未知命令',
  'commander.invalidArgument': '参数值无效',
  'commander.conflictingOption': '选项互相冲突',
};

/** Help or version asked for (exit code 0), or help shown because a command was incomplete (no message needed). */
export function isHelp(e: CommanderError): boolean {
  return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help';
}

export function usageMessage(e: CommanderError): string {
  // One line: commander puts its "(Did you mean …?)" on a line of its own.
  const english = e.message.replace(/^error:\s*/, '').replace(/\s*\n\s*/g, ' ').replace(/\.$/, '');
  const chinese = CHINESE[e.code] ?? (e.code === 'commander.error' ? '' : '用法错误');
  const text = chinese ? `${chinese} (${english})` : english;
  return `${text} — 用法见 hub --help (see hub --help)`;
}
