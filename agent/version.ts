/** Reported in the tunnel hello and the edge's status; kept in step with package.json by a test. */
export const AGENT_VERSION = '0.1.0';
