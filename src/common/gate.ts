/**
 * A counting gate: at most `limit` tickets hold a slot; the others wait in the order they were
 * taken, and a released slot passes straight to the next waiting ticket.
 */
export class Gate {
  #free: number;
  readonly #queue: Ticket[] = [];

  constructor(limit: number) {
    this.#free = limit;
  }

  /** A ticket that holds a slot now or waits for one (`onWait` runs then). */
  enter(onWait?: () => void): Ticket {
    const ticket = new Ticket(this);
    if (this.#free > 0) {
      this.#free--;
      ticket.grant();
    } else {
      onWait?.();
      this.#queue.push(ticket);
    }
    return ticket;
  }

  /** a ticket leaves (Ticket.leave): its slot passes on, or it leaves the queue */
  leave(ticket: Ticket, held: boolean): void {
    if (!held) {
      this.#queue.splice(this.#queue.indexOf(ticket), 1);
      return;
    }
    const next = this.#queue.shift();
    if (next) next.grant();
    else this.#free++;
  }
}

export class Ticket {
  #state: 'waiting' | 'held' | 'left' = 'waiting';
  #granted!: () => void;
  /** settles when the ticket holds its slot */
  readonly ready = new Promise<void>((resolve) => {
    this.#granted = resolve;
  });

  constructor(readonly gate: Gate) {}

  get held(): boolean {
    return this.#state === 'held';
  }

  /** (Gate's) the ticket holds a slot now */
  grant(): void {
    this.#state = 'held';
    this.#granted();
  }

  /** Gives the slot back, or leaves the queue; once. */
  leave(): void {
    if (this.#state === 'left') return;
    const held = this.#state === 'held';
    this.#state = 'left';
    this.gate.leave(this, held);
  }
}
