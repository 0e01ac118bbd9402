/**
 * Compile-time checks that the adapter's view of whatsapp-web.js holds for the library's own types:
 * the client it drives, the messages it reads, the messages it sends and later deletes, and the
 * files it downloads (a report's photos and voice notes). The real
 * client is handed to the adapter without a cast (client.ts), and the stand-in client of the tests
 * and the playground implements the same interface, so a method or field the adapter relies on
 * that the library does not have fails `tsc` here, not on a live phone.
 */
import type { Client, Message } from "whatsapp-web.js";
import type { WaClientLike, WaMessageLike } from "./index.ts";
import type { WaIncoming } from "./parse.ts";

type Holds<T extends true> = T;
export type ClientHolds = Holds<Client extends WaClientLike ? true : false>;
export type IncomingHolds = Holds<Message extends WaIncoming ? true : false>;
export type SentHolds = Holds<Message extends WaMessageLike ? true : false>;
