// Notifications driver: the browser's Notification API for finished and failed jobs while the
// tab is hidden (in-page toasts are ordinary DOM, rendered from state). Asking for permission
// is an explicit command, sent when the user presses the button, as browsers require.
import xs, { type MemoryStream, type Stream } from 'xstream';

export type NotificationCommand =
  | { readonly type: 'ask' }
  | { readonly type: 'notify'; readonly title: string; readonly body: string; readonly tag: string };

export type Permission = 'default' | 'granted' | 'denied' | 'unsupported';

export function makeNotificationDriver() {
  return function notificationDriver(command$: Stream<NotificationCommand>): MemoryStream<Permission> {
    const supported = typeof Notification !== 'undefined';
    const permission$ = xs.createWithMemory<Permission>();
    const current = (): Permission => (supported ? Notification.permission : 'unsupported');
    command$.addListener({
      next: (command) => {
        if (!supported) return;
        if (command.type === 'ask') {
          void Notification.requestPermission().then(() => permission$.shamefullySendNext(current()));
        } else if (document.hidden && Notification.permission === 'granted') {
          new Notification(command.title, { body: command.body, tag: command.tag });
        }
      },
      error: () => undefined,
      complete: () => undefined,
    });
    permission$.shamefullySendNext(current());
    return permission$;
  };
}
