// Compile-time checks of the package's declarations: `tsc --noEmit` (strict, the library's own
// .d.ts checked, no ESNext lib: the declarations bring what `using` needs) fails if one does not
// hold. Not imported by the app: nothing here runs.
import { socket } from "event-socket";
import type { Chat, Contact, EventName, Json, MessagesUpsert, QrcodeUpdated, Subscription } from "event-socket";

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(): T | undefined {
  return undefined;
}

expectType<Equals<MessagesUpsert["instanceId"], number>>();
expectType<Equals<MessagesUpsert["messageTimestamp"], number>>();
expectType<Equals<MessagesUpsert["pushName"], string | null | undefined>>();
expectType<Equals<MessagesUpsert["keyRemoteJid"], string | undefined>>();
expectType<Equals<QrcodeUpdated["paringCode"], string | undefined>>();

/** The callbacks get the payload of their event, with no narrowing or cast. */
export function typedCallbacks(): Subscription[] {
  return [
    socket("messages.upsert", (m) => {
      const id: number = m.instanceId;
      const name: string | null | undefined = m.pushName;
      console.log(id, name, m.keyLid, m.content.text);
    }),
    socket("chats.upsert", (chats) => {
      const rows: Chat[] = chats;
      console.log(rows.length);
    }),
    socket("contacts.upsert", (contacts) => {
      const first: Contact | undefined = contacts[0];
      console.log(first?.pushName);
    }),
    socket("qrcode.updated", (q) => {
      const pairing: string | undefined = q.paringCode;
      console.log(pairing);
    }),
    // Another server's event: any JSON.
    socket("orders.created", (data) => {
      const json: Json = data;
      console.log(json);
    }),
    // parse: "text": every frame as it came.
    socket(
      "messages.upsert",
      (frame) => {
        const raw: string | ArrayBuffer | Blob = frame;
        console.log(raw);
      },
      { parse: "text" },
    ),
  ];
}

/** Event names complete from CodeChat's and accept any string. */
export const names: EventName[] = ["messages.upsert", "group-participants.update", "anything.else"];

export function misuse(): void {
  // @ts-expect-error: with parse "json" a known event's data is its payload, not a string
  socket("messages.upsert", (data: string) => console.log(data));
  // @ts-expect-error: chats.upsert delivers an array
  socket("chats.upsert", (chat: Chat) => console.log(chat));
}

/** `using` ends a subscription with the block (Symbol.dispose comes with the declarations). */
export function scoped(): void {
  using sub = socket("connection.update", (u) => console.log(u.state));
  console.log(sub.state);
}

/** Sharing across tabs: `share` takes a boolean or "page"; `role` and `tabs` are read-only. */
export function acrossTabs(): void {
  using sub = socket("messages.upsert", (m) => console.log(m.keyId), { share: "page" });
  const role: "leader" | "follower" | "page" = sub.role;
  const tabs: number = sub.tabs;
  console.log(role, tabs);
  // @ts-expect-error: share is a boolean or "page"
  socket("messages.upsert", () => {}, { share: "tabs" });
  // @ts-expect-error: role is read-only
  sub.role = "leader";
}
