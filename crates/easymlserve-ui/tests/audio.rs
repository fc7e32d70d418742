//! Audio and camera inputs parsed as a GUI submits them: WAV and FLAC files made here decode to their
//! rate and length through `Input::parse`, the preview says what was read, and bad files name the input.

#[path = "support/flac.rs"]
mod flac;

use easymlserve_ui::{FileValue, Input, InputValue, Preview, RawInput};

fn upload(name: &str, bytes: Vec<u8>) -> RawInput {
    RawInput::File(FileValue {
        name: name.to_owned(),
        bytes,
    })
}

fn tone(frames: usize, channels: usize) -> Vec<i16> {
    (0..frames * channels)
        .map(|i| ((i / channels) as f64 * 0.05).sin() * 12_000.0)
        .map(|x| x as i16)
        .collect()
}

#[test]
fn flac_decodes_through_the_audio_input_to_its_rate_length_and_samples() {
    let samples = tone(22_050 + 123, 2);
    let input = Input::audio("voice", "Voice");
    let Ok(InputValue::Audio(audio)) = input.parse(upload("v.flac", flac::flac_16bit(22_050, 2, &samples))) else {
        panic!("not decoded");
    };
    assert_eq!((audio.sample_rate, audio.channels, audio.frames()), (22_050, 2, 22_173));
    let expected: Vec<f32> = samples.iter().map(|s| f32::from(*s) / 32_768.0).collect();
    assert_eq!(audio.samples, expected);
    let preview = Preview::parse(&input, upload("v.flac", flac::flac_16bit(8000, 1, &tone(4000, 1)))).unwrap();
    assert_eq!(
        preview,
        Some(Preview::Audio {
            detail: "8000 Hz, 1 channel, 0.50 s".to_owned()
        })
    );
}

#[test]
fn a_flac_longer_than_the_limit_and_a_picture_for_audio_are_refused_naming_the_input() {
    let input = Input::audio("voice", "Voice").max_seconds(0.25);
    let err = input
        .parse(upload("v.flac", flac::flac_16bit(8000, 1, &tone(4000, 1))))
        .unwrap_err();
    assert_eq!(err.field.as_deref(), Some("voice"));
    assert!(err.message.contains("at most 0.25 s"), "{}", err.message);
    let err = Input::audio("voice", "Voice")
        .parse(upload("v.wav", b"GIF89a....".to_vec()))
        .unwrap_err();
    assert!(err.message.contains("not a WAV or FLAC"), "{}", err.message);
    let err = Input::camera("shot", "Photo")
        .parse(upload("s.png", b"no png".to_vec()))
        .unwrap_err();
    assert_eq!(err.field.as_deref(), Some("shot"));
}
