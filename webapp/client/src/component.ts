// What every screen receives and may return. Screens are pure: sources in, sinks out.
import type { MainDOMSource, VNode } from '@cycle/dom';
import type { Reducer, StateSource } from '@cycle/state';
import type { MemoryStream, Stream } from 'xstream';
import type { Download } from './drivers/download';
import type { FileRead, FileSource } from './drivers/files';
import type { HttpRequest, HttpSource } from './drivers/http';
import type { MaskRequest, MaskResult } from './drivers/mask';
import type { NotificationCommand, Permission } from './drivers/notifications';
import type { RandomSource } from './drivers/random';
import type { StorageSource, StorageWrite } from './drivers/storage';
import type { HistoryCommand } from './drivers/history';
import type { WsCommand, WsMessage } from './drivers/websocket';
import type { AppState } from './model/types';

export interface Sources {
  readonly DOM: MainDOMSource;
  readonly state: StateSource<AppState>;
  readonly HTTP: HttpSource;
  readonly ws: Stream<WsMessage>;
  readonly history: MemoryStream<string>;
  readonly storage: StorageSource;
  readonly notify: MemoryStream<Permission>;
  readonly random: RandomSource;
  readonly mask: Stream<MaskResult>;
  readonly files: FileSource;
  readonly canvas?: unknown;
}

export interface Sinks {
  readonly DOM?: Stream<VNode>;
  readonly state?: Stream<Reducer<AppState>>;
  readonly HTTP?: Stream<HttpRequest>;
  readonly ws?: Stream<WsCommand>;
  readonly history?: Stream<HistoryCommand>;
  readonly storage?: Stream<StorageWrite>;
  readonly notify?: Stream<NotificationCommand>;
  readonly random?: Stream<string>;
  readonly mask?: Stream<MaskRequest>;
  readonly canvas?: Stream<unknown>;
  readonly download?: Stream<Download>;
  readonly files?: Stream<FileRead>;
}

export type Component = (sources: Sources) => Sinks;

/** A reducer that assumes the state exists (it always does after the initial one). */
export function update(change: (state: AppState) => AppState): Reducer<AppState> {
  return (state) => (state === undefined ? state : change(state));
}
