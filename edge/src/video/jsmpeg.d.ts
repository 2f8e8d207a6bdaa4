// The part of @cycjimmy/jsmpeg-player's API the MPEG-1 tiles use (the package ships no types).
declare module '@cycjimmy/jsmpeg-player' {
  export interface PlayerOptions {
    canvas?: HTMLCanvasElement;
    audio?: boolean;
    autoplay?: boolean;
    pauseWhenHidden?: boolean;
    /** Seconds between reconnects of the websocket source; 0 never reconnects. */
    reconnectInterval?: number;
    onSourceEstablished?: () => void;
    onVideoDecode?: () => void;
  }
  export class Player {
    constructor(url: string, options?: PlayerOptions);
    destroy(): void;
  }
  const JSMpeg: { Player: typeof Player };
  export default JSMpeg;
}
