// What a room type declares, as `tickroom gen ts` writes it from the Go
// declarations (rooms.gen.ts for the built-in types): the client's type
// argument, so that inputs and entity fields are checked by the compiler.
import type { Fields } from './entity.js';

/** A room type's declarations. */
export interface RoomType {
  /** The type's name, as in POST /api/rooms ('arena'). */
  name: string;
  /** Entity kinds by name: each kind's fields by name with their value types. */
  kinds: { [kind: string]: Fields };
  /** The payload Connection.sendInput takes. */
  input: unknown;
  /** The options a creator may give (POST /api/rooms `options`). */
  options: object;
  /** The data of the type's custom events. */
  event: unknown;
}

/** Any room type: what a Connection or Mirror without a type argument uses. */
export interface AnyRoom extends RoomType {
  options: Readonly<Record<string, unknown>>;
  event: Readonly<Record<string, unknown>>;
}

/** The fields of every kind of T: those they share are typed on any entity. */
export type FieldsOf<T extends RoomType> = T['kinds'][keyof T['kinds']];
