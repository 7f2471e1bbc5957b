import { makeDOMDriver } from '@cycle/dom';
import { run } from '@cycle/run';
import { withState } from '@cycle/state';
import { App } from './app';
import { makeDownloadDriver } from './drivers/download';
import { makeFilesDriver } from './drivers/files';
import { makeHistoryDriver } from './drivers/history';
import { makeHttpDriver } from './drivers/http';
import { makeMaskDriver } from './drivers/mask';
import { makeNotificationDriver } from './drivers/notifications';
import { makeRandomDriver } from './drivers/random';
import { makeStorageDriver } from './drivers/storage';
import { makeWebSocketDriver } from './drivers/websocket';
import { editorModule } from './shell/editor-host';
import './styles.css';

const drivers: Record<string, unknown> = {
  DOM: makeDOMDriver('#app'),
  HTTP: makeHttpDriver(),
  ws: makeWebSocketDriver(),
  history: makeHistoryDriver(),
  storage: makeStorageDriver(),
  notify: makeNotificationDriver(),
  random: makeRandomDriver(),
  mask: makeMaskDriver(),
  download: makeDownloadDriver(),
  files: makeFilesDriver(),
};
if (editorModule?.makeCanvasDriver !== undefined) drivers['canvas'] = editorModule.makeCanvasDriver();

// eslint-disable-next-line @typescript-eslint/no-explicit-any
run(withState(App as any) as any, drivers as any);
