import type { OperationName, OperationParams } from '../../shared/api/operations.ts';
import type { OperationBody } from '../../shared/api/responses.ts';

const ok = { status: 'success' } as const;

/** A documented success body for each operation, shaped by its parameters, for devices the tests script. */
const samples: { [N in OperationName]: (params: OperationParams<N>) => OperationBody<N> } = {
  'current-calls': () => ({
    ...ok,
    message: 'Channels will follow',
    data: [
      {
        channel: 'SIP/801-00000001',
        calleridnum: '801',
        calleridname: '801',
        channelstate: '6',
        channelstatedesc: 'Up',
        connectedlinenum: '13800138000',
        connectedlinename: '',
        duration: '00:00:05',
      },
    ],
  }),
  'extension-status': () => ({ ...ok, message: 'Peer status list will follow', data: [{ Exten: '801', Type: 'SIP', IPAddr: '192.168.12.20', Status: 'OK (5 ms)' }] }),
  'extension-hints-status': () => [{ agentName: '801', extension: '801', extenType: 'SIP', status: '0' }],
  'queue-info': () => ({ ...ok, message: 'Queue status will follow', data: { '630': [{ name: 'SIP/801', paused: '0', penalty: '0' }] } }),
  'agent-pause': (p) => ({ ...ok, message: p.state === 'on' ? 'Interface paused successfully' : 'Interface unpaused successfully' }),
  'agent-login': () => ({ ...ok, message: 'login extension success' }),
  'agent-logout': () => ({ ...ok, message: 'logout extension success' }),
  'click-number': () => ({ ...ok, message: 'Originate successfully queued' }),
  hangup: () => ({ ...ok, message: 'hangup extension success' }),
  transfer: () => ({ ...ok, message: 'tansfer extension success' }),
  'exten-spy': () => ({ ...ok, message: 'spy extension success' }),
  'blacklist-index': () => ({ ...ok, data: ['13800138000'] }),
  'blacklist-create': () => ({ ...ok, message: 'Updated database successfully' }),
  'blacklist-delete': () => ({ ...ok, message: 'Key deleted successfully' }),
};

export const sampleAnswer = <N extends OperationName>(op: N, params: OperationParams<N>): OperationBody<N> => samples[op](params);
