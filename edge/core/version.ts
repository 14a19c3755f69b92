/** The edge's release, shown in /openapi.json. */
export const EDGE_VERSION = '0.1.0';
