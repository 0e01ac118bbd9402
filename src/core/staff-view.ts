/**
 * What a staff desk hands its Telegram adapter: a text and rows of buttons. Both desks (reports and
 * the directory) use it; a directory button carries the entry it is about.
 */
export interface StaffButton {
  label: string;
  action: string;
  arg?: string;
}

export interface StaffView<B extends StaffButton = StaffButton> {
  text: string;
  buttons: B[][];
}
