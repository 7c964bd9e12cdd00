export declare const executablePath: string;
export declare const missingBrowser: string | false;
export declare const chromiumArgs: readonly string[];
export declare const fakeMediaArgs: readonly string[];
