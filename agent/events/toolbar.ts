import type { AmiMessage } from '../ami/message.ts';
import { extensionOf, type ToolbarEvent } from '../../shared/toolbar/events.ts';
import { callId, field } from './fields.ts';

/** Calls whose queue ring was already announced, so the DialBegin that follows is not a second ring. */
const REMEMBERED_RINGS = 1000;

/**
 * AMI events -> the toolbar-only events (shared/toolbar/events.ts). A queue call announces its ring
 * at AgentCalled, which Asterisk sends before the member's DialBegin and which alone names the queue
 * and the number the caller dialed; any other call rings at DialBegin. Originated legs (click-to-dial,
 * the agent's own phone called first) have no calling channel and ring nobody's screen pop.
 */
export class ToolbarTranslator {
  private readonly rang = new Set<string>();

  translate(ami: AmiMessage): ToolbarEvent[] {
    switch (ami.event) {
      case 'AgentCalled': {
        const ext = extensionOf(field(ami, 'Interface') || field(ami, 'DestChannel'));
        if (!ext) return [];
        this.remember(`${callId(ami)}|${ext}`);
        return [{ type: 'ring', ext, callId: callId(ami), caller: field(ami, 'CallerIDNum'), called: field(ami, 'Exten'), queue: field(ami, 'Queue') }];
      }
      case 'DialBegin': {
        const ext = extensionOf(field(ami, 'DestChannel'));
        if (!ext || !field(ami, 'Channel') || this.rang.has(`${callId(ami)}|${ext}`)) return [];
        this.remember(`${callId(ami)}|${ext}`);
        return [{ type: 'ring', ext, callId: callId(ami), caller: field(ami, 'CallerIDNum'), called: field(ami, 'Exten') || ext, queue: '' }];
      }
      case 'QueueMemberPause': {
        const iface = field(ami, 'Interface');
        const ext = extensionOf(iface);
        if (!ext) return [];
        return [{ type: 'pause', ext, interface: iface, queue: field(ami, 'Queue'), paused: field(ami, 'Paused') === '1', reason: field(ami, 'PausedReason') }];
      }
      case 'QueueMemberAdded':
      case 'QueueMemberRemoved': {
        const iface = field(ami, 'Interface');
        const ext = extensionOf(iface);
        if (!ext) return [];
        return [{ type: 'member', ext, interface: iface, queue: field(ami, 'Queue'), loggedIn: ami.event === 'QueueMemberAdded' }];
      }
      default:
        return [];
    }
  }

  private remember(key: string): void {
    this.rang.add(key);
    if (this.rang.size > REMEMBERED_RINGS) this.rang.delete(this.rang.values().next().value as string);
  }
}
