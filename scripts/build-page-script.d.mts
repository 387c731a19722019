/** Types of scripts/build-page-script.mjs, for the test that keeps the generated page script current. */
export declare const SOURCE: string;
export declare const GENERATED: string;
export declare function compilePageScript(source: string): string;
