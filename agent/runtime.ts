/**
 * What the agent runs on, for `--version`, the login log and the edge's status: the Node version, and
 * whether it is the single executable (its own Node inside) or a bundle on the box's Node.
 */
export function describeRuntime(): string {
  const sea = process.getBuiltinModule?.('node:sea') as { isSea(): boolean } | undefined;
  return `node ${process.version}${sea?.isSea() ? ' (single executable)' : ''} ${process.platform}-${process.arch}`;
}
